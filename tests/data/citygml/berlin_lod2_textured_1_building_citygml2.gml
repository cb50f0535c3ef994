<CityModel xmlns="http://www.opengis.net/citygml/2.0" xmlns:app="http://www.opengis.net/citygml/appearance/2.0" xmlns:bldg="http://www.opengis.net/citygml/building/2.0" xmlns:gen="http://www.opengis.net/citygml/generics/2.0" xmlns:gml="http://www.opengis.net/gml" xmlns:xAL="urn:oasis:names:tc:ciq:xsdschema:xAL:2.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/citygml/waterbody/2.0 http://schemas.opengis.net/citygml/waterbody/2.0/waterBody.xsd http://www.opengis.net/citygml/appearance/2.0 http://schemas.opengis.net/citygml/appearance/2.0/appearance.xsd http://www.opengis.net/citygml/texturedsurface/2.0 http://schemas.opengis.net/citygml/texturedsurface/2.0/texturedSurface.xsd http://www.opengis.net/citygml/vegetation/2.0 http://schemas.opengis.net/citygml/vegetation/2.0/vegetation.xsd http://www.opengis.net/citygml/relief/2.0 http://schemas.opengis.net/citygml/relief/2.0/relief.xsd http://www.opengis.net/citygml/transportation/2.0 http://schemas.opengis.net/citygml/transportation/2.0/transportation.xsd http://www.opengis.net/citygml/building/2.0 http://schemas.opengis.net/citygml/building/2.0/building.xsd http://www.opengis.net/citygml/cityobjectgroup/2.0 http://schemas.opengis.net/citygml/cityobjectgroup/2.0/cityObjectGroup.xsd http://www.opengis.net/citygml/tunnel/2.0 http://schemas.opengis.net/citygml/tunnel/2.0/tunnel.xsd http://www.opengis.net/citygml/cityfurniture/2.0 http://schemas.opengis.net/citygml/cityfurniture/2.0/cityFurniture.xsd http://www.opengis.net/citygml/bridge/2.0 http://schemas.opengis.net/citygml/bridge/2.0/bridge.xsd http://www.opengis.net/citygml/generics/2.0 http://schemas.opengis.net/citygml/generics/2.0/generics.xsd http://www.opengis.net/citygml/landuse/2.0 http://schemas.opengis.net/citygml/landuse/2.0/landUse.xsd">
  <cityObjectMember>
    <bldg:Building gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697">
      <gml:boundedBy>
        <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
          <gml:lowerCorner>391306.733 5821707.149 42.51</gml:lowerCorner>
          <gml:upperCorner>391332.451 5821727.363 68.9</gml:upperCorner>
        </gml:Envelope>
      </gml:boundedBy>
      <creationDate>2018-05-05</creationDate>
      <externalReference>
        <informationSystem>http://www.stadtentwicklung.berlin.de/</informationSystem>
        <externalObject>
          <name>A00BBF2</name>
        </externalObject>
      </externalReference>
      <gen:intAttribute name="EIG_KL_ST">
        <gen:value>1</gen:value>
      </gen:intAttribute>
      <gen:intAttribute name="EIG_KL_PV">
        <gen:value>3</gen:value>
      </gen:intAttribute>
      <gen:stringAttribute name="BezugspunktDachhoehe">
        <gen:value>2200</gen:value>
      </gen:stringAttribute>
      <gen:stringAttribute name="Methode">
        <gen:value>2000</gen:value>
      </gen:stringAttribute>
      <gen:stringAttribute name="Qualitaet">
        <gen:value>1.221</gen:value>
      </gen:stringAttribute>
      <gen:stringAttribute name="DatenquelleDachhoehe">
        <gen:value>1000</gen:value>
      </gen:stringAttribute>
      <gen:stringAttribute name="NiedrigsteTraufeDesGebaeudes">
        <gen:value>64.800</gen:value>
      </gen:stringAttribute>
      <gen:stringAttribute name="HoeheDach">
        <gen:value>68.900</gen:value>
      </gen:stringAttribute>
      <gen:stringAttribute name="HoeheGrund">
        <gen:value>42.515</gen:value>
      </gen:stringAttribute>
      <gen:stringAttribute name="DatenquelleBodenhoehe">
        <gen:value>1100</gen:value>
      </gen:stringAttribute>
      <app:appearance>
        <app:Appearance gml:id="UUID_a825c896-4613-45d1-9580-18ec8f21201c">
          <app:theme>Eignung Solarthermie</app:theme>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_84860ca7-113a-4a64-97c4-bb9ea5d02210">
              <app:imageURI>appearance/tex6216387.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_4a45c651-21ea-4225-ba6b-ede1ea95dc6e_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_4a45c651-21ea-4225-ba6b-ede1ea95dc6e_poly_0_">0.023746 0.580498 0.011348 0.058332 0.985648 0.463814 0.997524 0.985947 0.023746 0.580498</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_f3e2aae0-a8c8-4397-81bf-e8a83725e026">
              <app:imageURI>appearance/tex6216411.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2a9cc440-dd3b-4b23-9426-7ca9bb07a72b_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2a9cc440-dd3b-4b23-9426-7ca9bb07a72b_poly_0_">0.079566 0.007552 0.373387 0.024761 0.590824 0.037234 0.865274 0.052957 0.997549 0.998737 0.728377 0.983073 0.51512 0.970647 0.227005 0.953913 0.151511 0.949502 0.002593 0.003124 0.079566 0.007552</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_3088c2cb-5058-4df3-a928-90b264198f57">
              <app:imageURI>appearance/tex6216364.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_6d1e6d30-6ba2-412d-8d72-828f9da64cc3_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_6d1e6d30-6ba2-412d-8d72-828f9da64cc3_poly_0_">0.156044 0.941732 0.012611 0.013227 0.834674 0.057783 0.976138 0.989218 0.156044 0.941732</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_3832490c-52dc-44f9-8b6f-0221f6f2b48b">
              <app:imageURI>appearance/tex6216375.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_9da76bd6-6293-43aa-8de0-3b0465fba8c9_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_9da76bd6-6293-43aa-8de0-3b0465fba8c9_poly_0_">0.002135 0.003424 0.409232 0.068132 0.776762 0.126559 0.996757 0.996415 0.614412 0.93558 0.190904 0.868206 0.002135 0.003424</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_db9324b6-259d-4215-803e-f26bba764c32">
              <app:imageURI>appearance/tex6216379.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_1e8c4260-3adc-4788-94a9-46fd7b88776f_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_1e8c4260-3adc-4788-94a9-46fd7b88776f_poly_0_">0.978115 0.75 0.990434 0.988458 0.017252 0.257664 0.005895 0.019945 0.978115 0.75</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_2d18f748-535d-40bd-95a5-3b7d72048432">
              <app:imageURI>appearance/tex6216393.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_c2af7c88-f785-4643-acf3-f821202731dd_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_c2af7c88-f785-4643-acf3-f821202731dd_poly_0_">0.990026 0.996885 0.307166 0.966491 0.005404 0.003178 0.703172 0.033719 0.695987 0.009591 0.701979 0.009846 0.995886 0.997139 0.990026 0.996885</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_b75e5af8-8b5e-4830-94f0-675e914dfc91">
              <app:imageURI>appearance/tex6216398.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7b738823-af6a-4982-9662-73feea35d931_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7b738823-af6a-4982-9662-73feea35d931_poly_0_">0.881016 0.985139 0.439436 0.937843 0.133525 0.905109 0.004498 0.097896 0.315662 0.130669 0.296009 0.002508 0.746387 0.049868 0.764781 0.177653 0.882669 0.190065 0.996906 0.997536 0.881016 0.985139</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_001df972-ea5e-438d-81a0-83591d51fa75">
              <app:imageURI>appearance/tex6216404.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_150db573-b091-43f9-b393-c78aa99d7d48_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_150db573-b091-43f9-b393-c78aa99d7d48_poly_0_">0.001867 0.001447 0.538784 0.06915 0.754272 0.096301 0.769168 0.098198 0.996061 0.996851 0.980551 0.994875 0.974921 0.972523 0.750751 0.944253 0.721215 0.822317 0.165677 0.752208 0.001867 0.001447</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_d2e0ef9b-1006-457e-b176-cc7ead6f3c58">
              <app:imageURI>appearance/tex6216416.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ebed7a78-eede-4b48-9df4-6bbf39e5ded9_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ebed7a78-eede-4b48-9df4-6bbf39e5ded9_poly_0_">0.99602 0.991629 0.36929 0.648831 0.019802 0.457621 0.003523 0.006777 0.351067 0.196902 0.974306 0.53775 0.99602 0.991629</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_24202c70-5e12-48f6-9cb0-bc81b3121263">
              <app:imageURI>appearance/tex6216419.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ee267a37-b55f-4ac3-9f75-2775dedaab86_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ee267a37-b55f-4ac3-9f75-2775dedaab86_poly_0_">0.020959 0.552178 7.63E-4 0.02248 0.977323 0.434106 0.997057 0.963936 0.020959 0.552178</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_d02229fe-d60f-48a7-bcbf-05f1de840c27">
              <app:imageURI>appearance/tex6216425.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7e78e491-038f-4acc-8bf4-b95dbfad1bec_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7e78e491-038f-4acc-8bf4-b95dbfad1bec_poly_0_">0.943525 0.394792 0.993178 0.99525 0.047193 0.610007 0.002647 0.011673 0.943525 0.394792</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_b497ab73-5226-4fe7-8999-a9d6fade9fa6">
              <app:imageURI>appearance/tex6216428.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2550a8e1-c41f-41b4-aa9a-c5cbac14c4d5_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2550a8e1-c41f-41b4-aa9a-c5cbac14c4d5_poly_0_">0.998228 0.998561 0.687171 0.904712 0.540354 0.86041 0.547976 0.975845 0.035723 0.821284 0.001586 1.0E-5 0.493326 0.148262 0.635055 0.191 0.93533 0.28153 0.998228 0.998561</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_8268d86a-d870-4fcb-bc93-97190d01e20d">
              <app:imageURI>appearance/tex6216354.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_3f8946e3-a52b-4ead-8a85-a0a4d3f0cf79_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_3f8946e3-a52b-4ead-8a85-a0a4d3f0cf79_poly_0_">0.988087 0.753307 0.993492 0.967098 0.005986 0.221229 0.00159 0.008213 0.988087 0.753307</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_850ca870-17f8-4da4-b331-8a3fdbc67438">
              <app:imageURI>appearance/tex6216358.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_412b3f49-da70-4a8b-b62b-178a8ad8ee35_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_412b3f49-da70-4a8b-b62b-178a8ad8ee35_poly_0_">0.068678 0.7592 7.7E-5 0.00407 0.931647 0.235815 0.997528 0.9908 0.068678 0.7592</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:X3DMaterial gml:id="UUID_e634886c-83aa-4d58-a0b6-346b2be9fd4b">
              <gml:name>Eignung Photovoltaik_EIG_KL_ST_1</gml:name>
              <app:ambientIntensity>0.2</app:ambientIntensity>
              <app:diffuseColor>0.83921569 0.30588235 0.21176471</app:diffuseColor>
              <app:emissiveColor>0.0 0.0 0.0</app:emissiveColor>
              <app:specularColor>0.0 0.0 0.0</app:specularColor>
              <app:shininess>0.0</app:shininess>
              <app:transparency>0.0</app:transparency>
              <app:target>#UUID_02808706-e299-4500-9db3-7369e13b05bc</app:target>
              <app:target>#UUID_7b94491b-1cd2-4e7f-b266-1ae22009ce0b</app:target>
              <app:target>#UUID_701cae03-2c02-4962-a107-6af22ba11ba2</app:target>
              <app:target>#UUID_9266ef5a-26a6-49b1-8d64-8c91a6ed050e</app:target>
            </app:X3DMaterial>
          </app:surfaceDataMember>
        </app:Appearance>
      </app:appearance>
      <app:appearance>
        <app:Appearance gml:id="UUID_55095b4c-e279-42c3-9277-00786fcd68f4">
          <app:theme>Eignung Photovoltaik</app:theme>
          <app:surfaceDataMember xlink:href="#UUID_f3e2aae0-a8c8-4397-81bf-e8a83725e026" />
          <app:surfaceDataMember xlink:href="#UUID_850ca870-17f8-4da4-b331-8a3fdbc67438" />
          <app:surfaceDataMember xlink:href="#UUID_d2e0ef9b-1006-457e-b176-cc7ead6f3c58" />
          <app:surfaceDataMember xlink:href="#UUID_2d18f748-535d-40bd-95a5-3b7d72048432" />
          <app:surfaceDataMember xlink:href="#UUID_3088c2cb-5058-4df3-a928-90b264198f57" />
          <app:surfaceDataMember xlink:href="#UUID_8268d86a-d870-4fcb-bc93-97190d01e20d" />
          <app:surfaceDataMember xlink:href="#UUID_3832490c-52dc-44f9-8b6f-0221f6f2b48b" />
          <app:surfaceDataMember xlink:href="#UUID_b75e5af8-8b5e-4830-94f0-675e914dfc91" />
          <app:surfaceDataMember xlink:href="#UUID_b497ab73-5226-4fe7-8999-a9d6fade9fa6" />
          <app:surfaceDataMember xlink:href="#UUID_d02229fe-d60f-48a7-bcbf-05f1de840c27" />
          <app:surfaceDataMember xlink:href="#UUID_24202c70-5e12-48f6-9cb0-bc81b3121263" />
          <app:surfaceDataMember xlink:href="#UUID_001df972-ea5e-438d-81a0-83591d51fa75" />
          <app:surfaceDataMember xlink:href="#UUID_db9324b6-259d-4215-803e-f26bba764c32" />
          <app:surfaceDataMember xlink:href="#UUID_84860ca7-113a-4a64-97c4-bb9ea5d02210" />
          <app:surfaceDataMember>
            <app:X3DMaterial gml:id="UUID_74e6c884-aac5-45a1-b1e5-0cd58680ec9e">
              <gml:name>Eignung Photovoltaik_EIG_KL_PV_3</gml:name>
              <app:ambientIntensity>0.2</app:ambientIntensity>
              <app:diffuseColor>0.83921569 0.30588235 0.21176471</app:diffuseColor>
              <app:emissiveColor>0.0 0.0 0.0</app:emissiveColor>
              <app:specularColor>0.0 0.0 0.0</app:specularColor>
              <app:shininess>0.0</app:shininess>
              <app:transparency>0.0</app:transparency>
              <app:target>#UUID_7b94491b-1cd2-4e7f-b266-1ae22009ce0b</app:target>
              <app:target>#UUID_02808706-e299-4500-9db3-7369e13b05bc</app:target>
              <app:target>#UUID_9266ef5a-26a6-49b1-8d64-8c91a6ed050e</app:target>
              <app:target>#UUID_701cae03-2c02-4962-a107-6af22ba11ba2</app:target>
            </app:X3DMaterial>
          </app:surfaceDataMember>
        </app:Appearance>
      </app:appearance>
      <app:appearance>
        <app:Appearance gml:id="UUID_daf12a61-88ef-480b-b689-080786bdc96f">
          <app:theme>rgbTexture</app:theme>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_c92cdecf-9910-48b0-9806-8d2974476ffd">
              <app:imageURI>appearance/tex6216447.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_cb3f1c0a-0e68-4305-bc70-2129d761e006_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_cb3f1c0a-0e68-4305-bc70-2129d761e006_poly_0_">0.036185 0.013816 0.066087 0.018878 0.066604 0.010417 0.999659 0.191705 0.92276 0.986824 0.004223 0.808277 0.036185 0.013816</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_95de807d-339f-4064-8388-f7db9298b773">
              <app:imageURI>appearance/tex6216452.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_35c830dd-93a2-483b-bf1e-54b3e7e1a7d8_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_35c830dd-93a2-483b-bf1e-54b3e7e1a7d8_poly_0_">0.041145 0.418879 0.331524 0.47798 0.358951 0.260204 0.475928 0.280658 0.467284 0.50559 0.71569 0.556142 0.736486 0.331024 0.484154 0.279696 0.501176 2.84E-4 0.762487 0.04994 0.998425 0.094783 0.987355 0.382015 0.978563 0.609651 0.966787 0.917193 0.96366 0.997824 0.452397 0.893691 0.455475 0.813162 0.293489 0.780167 0.003107 0.72104 0.041145 0.418879</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_596d55d7-f956-4239-b626-c0fd66db2c15">
              <app:imageURI>appearance/tex6216454.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_46f5ef39-52a1-4118-ad4d-7ac274a3dda6_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_46f5ef39-52a1-4118-ad4d-7ac274a3dda6_poly_0_">0.084166 0.002511 0.99441 0.189598 0.90875 0.988159 0.001822 0.771429 0.084166 0.002511</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember>
            <app:ParameterizedTexture gml:id="UUID_d452202a-579c-4cd3-aff2-d40fd926586b">
              <app:imageURI>appearance/tex6216457.jpg</app:imageURI>
              <app:mimeType>image/jpeg</app:mimeType>
              <app:textureType>unknown</app:textureType>
              <app:wrapMode>wrap</app:wrapMode>
              <app:borderColor>1.0 1.0 1.0 1.0</app:borderColor>
              <app:target uri="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_454aca70-467d-4744-bd38-35da5f3bba78_poly">
                <app:TexCoordList>
                  <app:textureCoordinates ring="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_454aca70-467d-4744-bd38-35da5f3bba78_poly_0_">0.022824 0.020493 0.648312 0.350662 0.997231 0.534913 0.990524 0.985044 0.673281 0.817487 0.001387 0.462694 0.022824 0.020493</app:textureCoordinates>
                </app:TexCoordList>
              </app:target>
            </app:ParameterizedTexture>
          </app:surfaceDataMember>
          <app:surfaceDataMember xlink:href="#UUID_b497ab73-5226-4fe7-8999-a9d6fade9fa6" />
          <app:surfaceDataMember xlink:href="#UUID_24202c70-5e12-48f6-9cb0-bc81b3121263" />
          <app:surfaceDataMember xlink:href="#UUID_b75e5af8-8b5e-4830-94f0-675e914dfc91" />
          <app:surfaceDataMember xlink:href="#UUID_001df972-ea5e-438d-81a0-83591d51fa75" />
          <app:surfaceDataMember xlink:href="#UUID_2d18f748-535d-40bd-95a5-3b7d72048432" />
          <app:surfaceDataMember xlink:href="#UUID_3832490c-52dc-44f9-8b6f-0221f6f2b48b" />
          <app:surfaceDataMember xlink:href="#UUID_db9324b6-259d-4215-803e-f26bba764c32" />
          <app:surfaceDataMember xlink:href="#UUID_8268d86a-d870-4fcb-bc93-97190d01e20d" />
          <app:surfaceDataMember xlink:href="#UUID_3088c2cb-5058-4df3-a928-90b264198f57" />
          <app:surfaceDataMember xlink:href="#UUID_d02229fe-d60f-48a7-bcbf-05f1de840c27" />
          <app:surfaceDataMember xlink:href="#UUID_f3e2aae0-a8c8-4397-81bf-e8a83725e026" />
          <app:surfaceDataMember xlink:href="#UUID_84860ca7-113a-4a64-97c4-bb9ea5d02210" />
          <app:surfaceDataMember xlink:href="#UUID_850ca870-17f8-4da4-b331-8a3fdbc67438" />
          <app:surfaceDataMember xlink:href="#UUID_d2e0ef9b-1006-457e-b176-cc7ead6f3c58" />
        </app:Appearance>
      </app:appearance>
      <bldg:roofType>1000</bldg:roofType>
      <bldg:measuredHeight uom="urn:ogc:def:uom:UCUM::m">26.385</bldg:measuredHeight>
      <bldg:lod2Solid>
        <gml:Solid gml:id="UUID_21796ad4-eab0-4d8f-9390-45e5a57ba105">
          <gml:exterior>
            <gml:CompositeSurface gml:id="UUID_0b2dd3ff-9a0a-4f30-812f-fc43baa4d1b3">
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ebed7a78-eede-4b48-9df4-6bbf39e5ded9_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_c2af7c88-f785-4643-acf3-f821202731dd_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_9da76bd6-6293-43aa-8de0-3b0465fba8c9_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_150db573-b091-43f9-b393-c78aa99d7d48_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7b738823-af6a-4982-9662-73feea35d931_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2550a8e1-c41f-41b4-aa9a-c5cbac14c4d5_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_35c830dd-93a2-483b-bf1e-54b3e7e1a7d8_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2a9cc440-dd3b-4b23-9426-7ca9bb07a72b_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_1c7e3b3c-e204-496d-901a-f0a9d441f2d0_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_4a45c651-21ea-4225-ba6b-ede1ea95dc6e_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_1e8c4260-3adc-4788-94a9-46fd7b88776f_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ee267a37-b55f-4ac3-9f75-2775dedaab86_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_3f8946e3-a52b-4ead-8a85-a0a4d3f0cf79_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_6d1e6d30-6ba2-412d-8d72-828f9da64cc3_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_412b3f49-da70-4a8b-b62b-178a8ad8ee35_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7e78e491-038f-4acc-8bf4-b95dbfad1bec_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_cb3f1c0a-0e68-4305-bc70-2129d761e006_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_46f5ef39-52a1-4118-ad4d-7ac274a3dda6_poly" />
              <gml:surfaceMember xlink:href="#DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_454aca70-467d-4744-bd38-35da5f3bba78_poly" />
            </gml:CompositeSurface>
          </gml:exterior>
        </gml:Solid>
      </bldg:lod2Solid>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_6d1e6d30-6ba2-412d-8d72-828f9da64cc3">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391317.323 5821722.087 64.81</gml:lowerCorner>
              <gml:upperCorner>391317.622 5821723.574 68.28</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.280</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>25.765</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>64.810</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>22.295</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>5.255</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_cefd0feb-1fef-4fc9-89d3-652cc10c11eb">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_6d1e6d30-6ba2-412d-8d72-828f9da64cc3_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_6d1e6d30-6ba2-412d-8d72-828f9da64cc3_poly_0_">
                      <gml:posList srsDimension="3">391317.622 5821722.087 64.81 391317.622 5821722.087 68.269 391317.323 5821723.574 68.28 391317.323 5821723.574 64.81 391317.622 5821722.087 64.81</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7b738823-af6a-4982-9662-73feea35d931">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391306.733 5821709.454 42.51</gml:lowerCorner>
              <gml:upperCorner>391310.145 5821720.169 68.269</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.269</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>25.755</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>42.510</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>-0.005</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>270.615</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_f7b8a3e3-7ac8-4989-a319-c008e9026c4c">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7b738823-af6a-4982-9662-73feea35d931_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7b738823-af6a-4982-9662-73feea35d931_poly_0_">
                      <gml:posList srsDimension="3">391307.19 5821718.733 42.51 391308.935 5821713.255 42.51 391310.145 5821709.454 42.51 391310.145 5821709.454 64.8 391308.935 5821713.255 64.8 391308.935 5821713.255 68.269 391307.19 5821718.733 68.269 391307.19 5821718.733 64.81 391306.733 5821720.169 64.81 391306.733 5821720.169 42.51 391307.19 5821718.733 42.51</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ee267a37-b55f-4ac3-9f75-2775dedaab86">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391324.487 5821714.148 68.269</gml:lowerCorner>
              <gml:upperCorner>391325.607 5821718.255 68.9</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.900</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>26.385</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>68.269</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>25.755</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>2.685</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_8794e773-85f0-42de-b7c2-ec409c3529b9">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ee267a37-b55f-4ac3-9f75-2775dedaab86_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ee267a37-b55f-4ac3-9f75-2775dedaab86_poly_0_">
                      <gml:posList srsDimension="3">391324.487 5821718.255 68.269 391324.487 5821718.255 68.9 391325.607 5821714.148 68.9 391325.607 5821714.148 68.269 391324.487 5821718.255 68.269</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_4a45c651-21ea-4225-ba6b-ede1ea95dc6e">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391318.761 5821712.266 68.269</gml:lowerCorner>
              <gml:upperCorner>391319.594 5821716.414 68.9</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.900</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>26.385</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>68.269</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>25.755</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>2.668</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_522d0e82-87b3-4618-b506-c26506dff5b2">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_4a45c651-21ea-4225-ba6b-ede1ea95dc6e_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_4a45c651-21ea-4225-ba6b-ede1ea95dc6e_poly_0_">
                      <gml:posList srsDimension="3">391319.594 5821712.266 68.269 391319.594 5821712.266 68.9 391318.761 5821716.414 68.9 391318.761 5821716.414 68.269 391319.594 5821712.266 68.269</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:RoofSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_cb3f1c0a-0e68-4305-bc70-2129d761e006">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391318.761 5821712.266 68.9</gml:lowerCorner>
              <gml:upperCorner>391325.607 5821718.255 68.9</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Dachorientierung">
            <gen:value>-1.000</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>68.900</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>26.385</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.900</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>26.385</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Dachneigung">
            <gen:value>90.000</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>26.195</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_9266ef5a-26a6-49b1-8d64-8c91a6ed050e">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_cb3f1c0a-0e68-4305-bc70-2129d761e006_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_cb3f1c0a-0e68-4305-bc70-2129d761e006_poly_0_">
                      <gml:posList srsDimension="3">391319.594 5821712.266 68.9 391319.781 5821712.322 68.9 391319.791 5821712.278 68.9 391325.607 5821714.148 68.9 391324.487 5821718.255 68.9 391318.761 5821716.414 68.9 391319.594 5821712.266 68.9</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:RoofSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:RoofSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_46f5ef39-52a1-4118-ad4d-7ac274a3dda6">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391308.935 5821709.454 64.8</gml:lowerCorner>
              <gml:upperCorner>391316.888 5821715.408 64.8</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Dachorientierung">
            <gen:value>-1.000</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>64.800</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>22.285</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>64.800</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>22.285</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Dachneigung">
            <gen:value>90.000</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>28.596</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_701cae03-2c02-4962-a107-6af22ba11ba2">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_46f5ef39-52a1-4118-ad4d-7ac274a3dda6_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_46f5ef39-52a1-4118-ad4d-7ac274a3dda6_poly_0_">
                      <gml:posList srsDimension="3">391310.145 5821709.454 64.8 391316.888 5821711.461 64.8 391315.631 5821715.408 64.8 391308.935 5821713.255 64.8 391310.145 5821709.454 64.8</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:RoofSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:RoofSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_35c830dd-93a2-483b-bf1e-54b3e7e1a7d8">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391307.19 5821707.149 68.269</gml:lowerCorner>
              <gml:upperCorner>391332.451 5821727.363 68.28</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Dachorientierung">
            <gen:value>-1.000</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>68.269</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>25.755</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.280</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>25.765</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Dachneigung">
            <gen:value>89.970</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>254.416</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_7b94491b-1cd2-4e7f-b266-1ae22009ce0b">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_35c830dd-93a2-483b-bf1e-54b3e7e1a7d8_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_35c830dd-93a2-483b-bf1e-54b3e7e1a7d8_poly_0_">
                      <gml:posList srsDimension="3">391308.935 5821713.255 68.269 391315.631 5821715.408 68.269 391316.888 5821711.461 68.269 391319.594 5821712.266 68.269 391318.761 5821716.414 68.269 391324.487 5821718.255 68.269 391325.607 5821714.148 68.269 391319.791 5821712.278 68.269 391320.974 5821707.149 68.269 391327.006 5821709.021 68.269 391332.451 5821710.711 68.269 391331.388 5821716.006 68.269 391330.545 5821720.203 68.269 391329.407 5821725.876 68.28 391329.108 5821727.363 68.28 391317.323 5821723.574 68.28 391317.622 5821722.087 68.269 391313.887 5821720.886 68.269 391307.19 5821718.733 68.269 391308.935 5821713.255 68.269</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:RoofSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_3f8946e3-a52b-4ead-8a85-a0a4d3f0cf79">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391318.761 5821716.414 68.269</gml:lowerCorner>
              <gml:upperCorner>391324.487 5821718.255 68.9</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.900</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>26.385</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>68.269</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>25.755</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>3.793</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_91d7f8c4-3a02-4f42-843f-f6c924996eb5">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_3f8946e3-a52b-4ead-8a85-a0a4d3f0cf79_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_3f8946e3-a52b-4ead-8a85-a0a4d3f0cf79_poly_0_">
                      <gml:posList srsDimension="3">391318.761 5821716.414 68.269 391318.761 5821716.414 68.9 391324.487 5821718.255 68.9 391324.487 5821718.255 68.269 391318.761 5821716.414 68.269</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_c2af7c88-f785-4643-acf3-f821202731dd">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391319.781 5821707.149 42.51</gml:lowerCorner>
              <gml:upperCorner>391320.974 5821712.322 68.9</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.900</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>26.385</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>42.510</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>-0.005</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>136.780</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_3b622314-4d46-4f5e-b044-18e3fbd9c534">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_c2af7c88-f785-4643-acf3-f821202731dd_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_c2af7c88-f785-4643-acf3-f821202731dd_poly_0_">
                      <gml:posList srsDimension="3">391319.791 5821712.278 42.51 391320.974 5821707.149 42.51 391320.974 5821707.149 68.269 391319.791 5821712.278 68.269 391319.791 5821712.278 68.9 391319.781 5821712.322 68.9 391319.781 5821712.322 42.51 391319.791 5821712.278 42.51</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ebed7a78-eede-4b48-9df4-6bbf39e5ded9">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391307.19 5821718.733 64.81</gml:lowerCorner>
              <gml:upperCorner>391317.622 5821722.087 68.269</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.269</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>25.755</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>64.810</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>22.295</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>37.907</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_db24cde9-bdad-4de4-8fd4-fd99e7f64dc3">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ebed7a78-eede-4b48-9df4-6bbf39e5ded9_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_ebed7a78-eede-4b48-9df4-6bbf39e5ded9_poly_0_">
                      <gml:posList srsDimension="3">391307.19 5821718.733 68.269 391313.887 5821720.886 68.269 391317.622 5821722.087 68.269 391317.622 5821722.087 64.81 391313.887 5821720.886 64.81 391307.19 5821718.733 64.81 391307.19 5821718.733 68.269</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_9da76bd6-6293-43aa-8de0-3b0465fba8c9">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391320.974 5821707.149 42.51</gml:lowerCorner>
              <gml:upperCorner>391332.451 5821710.711 68.269</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.269</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>25.755</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>42.510</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>-0.005</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>309.552</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_47b91c48-24f6-41e7-9390-aa0b672a0dcc">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_9da76bd6-6293-43aa-8de0-3b0465fba8c9_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_9da76bd6-6293-43aa-8de0-3b0465fba8c9_poly_0_">
                      <gml:posList srsDimension="3">391320.974 5821707.149 42.51 391327.006 5821709.021 42.51 391332.451 5821710.711 42.51 391332.451 5821710.711 68.269 391327.006 5821709.021 68.269 391320.974 5821707.149 68.269 391320.974 5821707.149 42.51</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:RoofSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_454aca70-467d-4744-bd38-35da5f3bba78">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391306.733 5821718.733 64.81</gml:lowerCorner>
              <gml:upperCorner>391317.622 5821723.574 64.81</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Dachorientierung">
            <gen:value>-1.000</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>64.810</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>22.295</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>64.810</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>22.295</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Dachneigung">
            <gen:value>90.000</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>16.640</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_02808706-e299-4500-9db3-7369e13b05bc">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_454aca70-467d-4744-bd38-35da5f3bba78_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_454aca70-467d-4744-bd38-35da5f3bba78_poly_0_">
                      <gml:posList srsDimension="3">391307.19 5821718.733 64.81 391313.887 5821720.886 64.81 391317.622 5821722.087 64.81 391317.323 5821723.574 64.81 391313.927 5821722.482 64.81 391306.733 5821720.169 64.81 391307.19 5821718.733 64.81</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:RoofSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_150db573-b091-43f9-b393-c78aa99d7d48">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391310.145 5821709.454 42.51</gml:lowerCorner>
              <gml:upperCorner>391319.781 5821712.322 68.9</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.900</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>26.385</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>42.510</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>-0.005</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>234.694</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_d0528139-bcb4-46ec-bf22-44c6b71d0443">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_150db573-b091-43f9-b393-c78aa99d7d48_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_150db573-b091-43f9-b393-c78aa99d7d48_poly_0_">
                      <gml:posList srsDimension="3">391310.145 5821709.454 42.51 391316.888 5821711.461 42.51 391319.594 5821712.266 42.51 391319.781 5821712.322 42.51 391319.781 5821712.322 68.9 391319.594 5821712.266 68.9 391319.594 5821712.266 68.269 391316.888 5821711.461 68.269 391316.888 5821711.461 64.8 391310.145 5821709.454 64.8 391310.145 5821709.454 42.51</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:GroundSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_1c7e3b3c-e204-496d-901a-f0a9d441f2d0">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391306.733 5821707.149 42.51</gml:lowerCorner>
              <gml:upperCorner>391332.451 5821727.363 42.51</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>42.510</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>-0.005</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>42.510</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>-0.005</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>325.848</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_a3a25771-735c-4b39-9f58-fea33484ea4e">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_1c7e3b3c-e204-496d-901a-f0a9d441f2d0_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_1c7e3b3c-e204-496d-901a-f0a9d441f2d0_poly_0_">
                      <gml:posList srsDimension="3">391327.006 5821709.021 42.51 391320.974 5821707.149 42.51 391319.791 5821712.278 42.51 391319.781 5821712.322 42.51 391319.594 5821712.266 42.51 391316.888 5821711.461 42.51 391310.145 5821709.454 42.51 391308.935 5821713.255 42.51 391307.19 5821718.733 42.51 391306.733 5821720.169 42.51 391313.927 5821722.482 42.51 391317.323 5821723.574 42.51 391329.108 5821727.363 42.51 391329.407 5821725.876 42.51 391330.545 5821720.203 42.51 391331.388 5821716.006 42.51 391332.451 5821710.711 42.51 391327.006 5821709.021 42.51</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:GroundSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2550a8e1-c41f-41b4-aa9a-c5cbac14c4d5">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391306.733 5821720.169 42.51</gml:lowerCorner>
              <gml:upperCorner>391329.108 5821727.363 68.28</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.280</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>25.765</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>42.510</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>-0.005</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>567.073</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_1cf2ea9a-51a0-4dc4-b793-ed1c3308c901">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2550a8e1-c41f-41b4-aa9a-c5cbac14c4d5_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2550a8e1-c41f-41b4-aa9a-c5cbac14c4d5_poly_0_">
                      <gml:posList srsDimension="3">391306.733 5821720.169 64.81 391313.927 5821722.482 64.81 391317.323 5821723.574 64.81 391317.323 5821723.574 68.28 391329.108 5821727.363 68.28 391329.108 5821727.363 42.51 391317.323 5821723.574 42.51 391313.927 5821722.482 42.51 391306.733 5821720.169 42.51 391306.733 5821720.169 64.81</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2a9cc440-dd3b-4b23-9426-7ca9bb07a72b">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391329.108 5821710.711 42.51</gml:lowerCorner>
              <gml:upperCorner>391332.451 5821727.363 68.28</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.280</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>25.765</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>42.510</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>-0.005</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>437.551</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_946e6002-671d-49e7-bd35-fc254d176875">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2a9cc440-dd3b-4b23-9426-7ca9bb07a72b_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_2a9cc440-dd3b-4b23-9426-7ca9bb07a72b_poly_0_">
                      <gml:posList srsDimension="3">391329.407 5821725.876 68.28 391330.545 5821720.203 68.269 391331.388 5821716.006 68.269 391332.451 5821710.711 68.269 391332.451 5821710.711 42.51 391331.388 5821716.006 42.51 391330.545 5821720.203 42.51 391329.407 5821725.876 42.51 391329.108 5821727.363 42.51 391329.108 5821727.363 68.28 391329.407 5821725.876 68.28</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7e78e491-038f-4acc-8bf4-b95dbfad1bec">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391308.935 5821713.255 64.8</gml:lowerCorner>
              <gml:upperCorner>391315.631 5821715.408 68.269</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.269</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>25.755</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>64.800</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>22.285</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>24.403</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_10293737-aa45-4186-b6f7-249de9505c6b">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7e78e491-038f-4acc-8bf4-b95dbfad1bec_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_7e78e491-038f-4acc-8bf4-b95dbfad1bec_poly_0_">
                      <gml:posList srsDimension="3">391315.631 5821715.408 64.8 391315.631 5821715.408 68.269 391308.935 5821713.255 68.269 391308.935 5821713.255 64.8 391315.631 5821715.408 64.8</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_1e8c4260-3adc-4788-94a9-46fd7b88776f">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391319.791 5821712.278 68.269</gml:lowerCorner>
              <gml:upperCorner>391325.607 5821714.148 68.9</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.900</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>26.385</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>68.269</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>25.755</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>3.853</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_df8b8e1d-c519-482b-8c8a-535fd73e2584">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_1e8c4260-3adc-4788-94a9-46fd7b88776f_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_1e8c4260-3adc-4788-94a9-46fd7b88776f_poly_0_">
                      <gml:posList srsDimension="3">391325.607 5821714.148 68.269 391325.607 5821714.148 68.9 391319.791 5821712.278 68.9 391319.791 5821712.278 68.269 391325.607 5821714.148 68.269</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:boundedBy>
        <bldg:WallSurface gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_412b3f49-da70-4a8b-b62b-178a8ad8ee35">
          <gml:boundedBy>
            <gml:Envelope srsDimension="3" srsName="urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783">
              <gml:lowerCorner>391315.631 5821711.461 64.8</gml:lowerCorner>
              <gml:upperCorner>391316.888 5821715.408 68.269</gml:upperCorner>
            </gml:Envelope>
          </gml:boundedBy>
          <creationDate>2018-05-05</creationDate>
          <gen:stringAttribute name="Z_MAX_ASL">
            <gen:value>68.269</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MAX">
            <gen:value>25.755</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN_ASL">
            <gen:value>64.800</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Z_MIN">
            <gen:value>22.285</gen:value>
          </gen:stringAttribute>
          <gen:stringAttribute name="Flaeche">
            <gen:value>14.371</gen:value>
          </gen:stringAttribute>
          <bldg:lod2MultiSurface>
            <gml:MultiSurface gml:id="UUID_5d4d6946-46b4-4127-bb54-0fc3c0687b63">
              <gml:surfaceMember>
                <gml:Polygon gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_412b3f49-da70-4a8b-b62b-178a8ad8ee35_poly">
                  <gml:exterior>
                    <gml:LinearRing gml:id="DEB_LOD2_UUID_cda3726a-7346-4ba8-a393-90964d0c8697_412b3f49-da70-4a8b-b62b-178a8ad8ee35_poly_0_">
                      <gml:posList srsDimension="3">391316.888 5821711.461 64.8 391316.888 5821711.461 68.269 391315.631 5821715.408 68.269 391315.631 5821715.408 64.8 391316.888 5821711.461 64.8</gml:posList>
                    </gml:LinearRing>
                  </gml:exterior>
                </gml:Polygon>
              </gml:surfaceMember>
            </gml:MultiSurface>
          </bldg:lod2MultiSurface>
        </bldg:WallSurface>
      </bldg:boundedBy>
      <bldg:address>
        <Address gml:id="UUID_61f225f8-26a0-49a5-a219-ccc3f72d1c37">
          <xalAddress>
            <xAL:AddressDetails>
              <xAL:Country>
                <xAL:CountryName>Germany</xAL:CountryName>
                <xAL:Locality Type="Town">
                  <xAL:LocalityName>Berlin</xAL:LocalityName>
                </xAL:Locality>
              </xAL:Country>
            </xAL:AddressDetails>
          </xalAddress>
        </Address>
      </bldg:address>
    </bldg:Building>
  </cityObjectMember>
  </CityModel>